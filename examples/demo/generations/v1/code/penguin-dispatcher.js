/**
 * A dispatcher (FUNCTION): scores a penguin with the penguin-species endpoint of the same
 * generation through the self-client, and answers a readable verdict around the prediction.
 */
const HABITATS = { Adelie: ['Biscoe', 'Dream', 'Torgersen'], Chinstrap: ['Dream'], Gentoo: ['Biscoe'] };

export async function describePenguin(penguin) {
  const client = apinode.getSelfClient();
  const { generation } = apinode.context;
  const scored = await client.predictRecord('penguin-species', penguin, { forcedGeneration: generation });
  const { prediction, probas } = scored.result;
  const confidence = probas[prediction];
  const seenOnIsland = penguin.island == null || HABITATS[prediction].includes(penguin.island);
  console.log(`penguin-dispatcher: ${prediction} (${Math.round(confidence * 100)}%)`);
  return {
    species: prediction,
    confidence,
    verdict: `${confidence >= 0.9 ? 'Almost certainly' : confidence >= 0.6 ? 'Probably' : 'Perhaps'} a ${prediction} penguin`,
    seenOnIsland,
    habitat: HABITATS[prediction],
    probas,
    scoredBy: { endpoint: 'penguin-species', generation: scored.apiContext.serviceGeneration, timing: scored.timing },
  };
}
