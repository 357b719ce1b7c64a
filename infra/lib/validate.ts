import { Token } from 'aws-cdk-lib';

/** Throws early, at synth, with what was received and what was expected (tokens pass: known at deploy). */
export function checkInt(construct: string, prop: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${construct}: ${prop} must be an integer from ${min} to ${max}, got ${value}`);
  }
}
