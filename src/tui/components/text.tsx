// Ink's Text, without its colours when the user asked for none (NO_COLOR, FORCE_COLOR=0): every
// component takes Text from here. Bold, dim and inverse stay: they are not colours, and inverse is
// what shows the selected row.
import {Text as InkText, type TextProps} from 'ink'
import {createContext, useContext} from 'react'

/** Whether the screen may use colours; false leaves text attributes only. */
export const ColorContext = createContext(true)

export function Text(props: TextProps) {
  const color = useContext(ColorContext)
  if (color || (props.color === undefined && props.backgroundColor === undefined)) return <InkText {...props} />
  const {color: _color, backgroundColor: _background, ...rest} = props
  return <InkText {...rest} />
}
