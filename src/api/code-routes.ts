import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { decodeQueryValue, type CodeEndpoints } from '../code/code-endpoints.js';
import { admitAndBind, apiContext, ofKind } from './call.js';
import type { AppEnv, Deps } from './env.js';
import { readJson } from './http.js';

const Args = z.record(z.string(), z.unknown());

/** FUNCTION endpoints: `run`, named arguments as a JSON body (POST) or query parameters (GET). */
export function codeRoutes(deps: Deps, code: CodeEndpoints): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const run = async (c: Context<AppEnv>, args: Record<string, unknown>) => {
    const b = ofKind(c.get('bound'), 'FUNCTION');
    const answer = await code.run(c, b, args);
    if (deps.queryLog) {
      deps.queryLog.write([
        {
          time: new Date().toISOString(),
          requestId: c.get('requestId'),
          serviceId: b.service.serviceId,
          endpointId: b.endpoint.id,
          generation: b.generation.id,
          caller: b.caller,
          features: args,
          context: null,
          result: { response: answer.response },
          timing: answer.timing,
        },
      ]);
    }
    return c.json({ ...answer, apiContext: apiContext(b) });
  };

  // Admission and dispatch first, as for every endpoint kind; run bodies carry no dispatch.
  app.use('/:serviceId/:endpointId/run', admitAndBind(deps));
  app.post('/:serviceId/:endpointId/run', async (c) => run(c, await readJson(c, Args, deps.config.maxBodyBytes)));
  app.get('/:serviceId/:endpointId/run', (c) => run(c, Object.fromEntries(Object.entries(c.req.query()).map(([k, v]) => [k, decodeQueryValue(v)]))));
  return app;
}
