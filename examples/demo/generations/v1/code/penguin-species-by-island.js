/**
 * CUSTOM_PREDICTION: runs the generation's penguin-species model, then keeps only the species
 * that live on the penguin's island (Palmer Archipelago field data) and renormalizes.
 */
const LIVES_ON = { Biscoe: ['Adelie', 'Gentoo'], Dream: ['Adelie', 'Chinstrap'], Torgersen: ['Adelie'] };

export async function predict(features, ctx) {
  const scored = await ctx.predict('penguin-species', features);
  if (scored.ignored) return { ignored: true, ignoreReason: scored.ignoreReason };
  const possible = LIVES_ON[features.island] ?? Object.keys(scored.probas);
  const total = possible.reduce((s, c) => s + scored.probas[c], 0);
  const probas = {};
  for (const c of Object.keys(scored.probas)) probas[c] = total > 0 ? (possible.includes(c) ? scored.probas[c] / total : 0) : scored.probas[c];
  const prediction = Object.keys(probas).reduce((a, b) => (probas[b] > probas[a] ? b : a));
  return { prediction, probas };
}
