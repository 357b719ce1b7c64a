/** The demo's FUNCTION endpoint: GET run?a=30&b=12 or POST {"a": 30, "b": 12} answers 42. */
export function sum(a, b) {
  return a + b;
}
