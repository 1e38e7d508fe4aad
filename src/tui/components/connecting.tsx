// The first frame, painted while the brokers connect: the screen appears as soon as Ink has
// loaded instead of after the slowest handshake. q / ctrl-c already quit.
import {Box, useApp, useInput} from 'ink'
import {Text} from './text.js'

export function Connecting({urls, width, height}: {urls: readonly string[]; width: number; height: number}) {
  const {exit} = useApp()
  useInput((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) exit()
  })
  const shown = urls.filter(Boolean)
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box flexDirection="column" flexGrow={1}>
        <Text bold color="cyan">
          queue top
        </Text>
        <Text dimColor wrap="truncate">
          {shown.length > 0 ? `connecting to ${shown.join(', ')}…` : 'connecting…'}
        </Text>
      </Box>
      <Text dimColor>q quit</Text>
    </Box>
  )
}
