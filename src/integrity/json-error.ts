/**
 * Where a JSON text first stops being JSON, and why, in words that do not
 * depend on the Node.js version: V8's own messages change between releases
 * and name a position only for some errors. Called only once JSON.parse has
 * failed, so it only has to find the error, not build values.
 */

export interface JsonSyntaxError {
  /** Offset (in UTF-16 code units) of the first character that cannot be JSON. */
  readonly offset: number
  /** 1-based line of that offset; for an unexpected end, the last line that holds anything. */
  readonly line: number
  readonly problem: string
}

class Failure {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't'])

function describeChar(char: string): string {
  const code = char.codePointAt(0)!
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).padStart(4, '0').toUpperCase()}`
  return char === "'" ? `"'"` : `'${char}'`
}

class Scanner {
  private pos = 0

  constructor(private readonly text: string) {}

  document(): void {
    this.space()
    this.value()
    this.space()
    if (this.pos < this.text.length) this.fail(`unexpected ${describeChar(this.text[this.pos]!)} after the end of the JSON document`)
  }

  private fail(problem: string): never {
    throw new Failure(this.pos, this.pos >= this.text.length ? 'unexpected end of the file' : problem)
  }

  private space(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text[this.pos]!)) this.pos++
  }

  private value(): void {
    const char = this.text[this.pos]
    if (char === '{') return this.object()
    if (char === '[') return this.array()
    if (char === '"') return this.string()
    if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return this.number()
    for (const word of ['true', 'false', 'null']) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length
        return
      }
    }
    this.fail(`unexpected ${describeChar(char ?? '')} where a value should start (strings take double quotes)`)
  }

  private object(): void {
    this.pos++
    this.space()
    if (this.text[this.pos] === '}') {
      this.pos++
      return
    }
    for (;;) {
      this.space()
      if (this.text[this.pos] !== '"') this.fail("expected a property name in double quotes (no trailing comma after the last property)")
      this.string()
      this.space()
      if (this.text[this.pos] !== ':') this.fail("expected ':' after the property name")
      this.pos++
      this.space()
      this.value()
      this.space()
      const next = this.text[this.pos]
      this.pos++
      if (next === '}') return
      if (next !== ',') {
        this.pos--
        this.fail("expected ',' or '}' after the property value")
      }
    }
  }

  private array(): void {
    this.pos++
    this.space()
    if (this.text[this.pos] === ']') {
      this.pos++
      return
    }
    for (;;) {
      this.space()
      if (this.text[this.pos] === ']') this.fail('expected a value (no trailing comma after the last element)')
      this.value()
      this.space()
      const next = this.text[this.pos]
      this.pos++
      if (next === ']') return
      if (next !== ',') {
        this.pos--
        this.fail("expected ',' or ']' after the array element")
      }
    }
  }

  private string(): void {
    this.pos++
    for (;;) {
      const char = this.text[this.pos]
      if (char === undefined) this.fail('unterminated string')
      if (char === '"') {
        this.pos++
        return
      }
      if (char.codePointAt(0)! < 0x20) this.fail(`${describeChar(char)} inside a string (a string cannot span lines)`)
      if (char === '\\') {
        const escaped = this.text[this.pos + 1]
        if (escaped === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) {
          this.pos += 6
          continue
        }
        if (escaped === undefined || !ESCAPES.has(escaped)) this.fail('invalid escape sequence in a string')
        this.pos += 2
        continue
      }
      this.pos++
    }
  }

  private number(): void {
    NUMBER.lastIndex = this.pos
    const match = NUMBER.exec(this.text)
    if (!match) this.fail('invalid number')
    this.pos += match[0].length
  }
}

function lineOf(text: string, offset: number): number {
  // An unexpected end is reported on the last line that holds anything, not on an empty line after it.
  const end = Math.min(offset, text.trimEnd().length)
  let line = 1
  for (let index = text.indexOf('\n'); index !== -1 && index < end; index = text.indexOf('\n', index + 1)) line++
  return line
}

/** The first syntax error in `text`, or undefined when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  try {
    new Scanner(text).document()
    return undefined
  } catch (error) {
    if (!(error instanceof Failure)) throw error
    return {line: lineOf(text, error.offset), offset: error.offset, problem: error.problem}
  }
}
