/** SGR parameters in `text` that set a colour (foreground, background, bright, 256/true colour). */
export function colourCodes(text: string): string[] {
  return [...text.matchAll(/\u001B\[([\d;]*)m/g)].flatMap((m) => m[1]!.split(';')).filter((p) => /^(3[0-8]|4[0-8]|9[0-7]|10[0-7])$/.test(p))
}
