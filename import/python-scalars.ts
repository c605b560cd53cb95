// Legacy configs are JSON that Caliban's Python generator read: a value is written as
// Python's str() would write it (True, None, 1e+16), so a number keeps its source text.

/** A JSON number keeps its source text, so that a value is written as Python's str() would write it. */
export interface JsonNumber {
  readonly number: number;
  readonly source: string;
}

export function isJsonNumber(value: unknown): value is JsonNumber {
  return typeof value === "object" && value !== null && "source" in value && "number" in value;
}

/** Python's str() of a JSON scalar: str, int, float (repr), True/False, None. */
export function pythonString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value === true) return "True";
  if (value === false) return "False";
  if (value === null) return "None";
  if (isJsonNumber(value)) return /^-?\d+$/.test(value.source) ? BigInt(value.source).toString() : pythonFloatRepr(value.number);
  return undefined;
}

/** repr(float) in Python 3: the shortest round-trip digits, exponent form outside 1e-4 <= |x| < 1e16. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, exponentText] = Math.abs(x).toExponential().split("e");
  const digits = mantissa!.replace(".", "");
  const exponent = Number(exponentText);
  const sign = x < 0 ? "-" : "";
  const pointAt = exponent + 1;
  if (pointAt > -4 && pointAt <= 16) {
    if (pointAt <= 0) return `${sign}0.${"0".repeat(-pointAt)}${digits}`;
    if (digits.length <= pointAt) return `${sign}${digits}${"0".repeat(pointAt - digits.length)}.0`;
    return `${sign}${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
  }
  const fraction = digits.length > 1 ? `.${digits.slice(1)}` : "";
  const e = Math.abs(exponent).toString().padStart(2, "0");
  return `${sign}${digits[0]}${fraction}e${exponent < 0 ? "-" : "+"}${e}`;
}
