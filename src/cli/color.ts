// Colour only for a person at a terminal: never in pipes or files, never when NO_COLOR is set.
export function useColor(flag: boolean | undefined, stream: NodeJS.WriteStream = process.stdout): boolean {
  return flag !== false && stream.isTTY === true && !process.env.NO_COLOR;
}
