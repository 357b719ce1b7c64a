import { serve } from '@hono/node-server';
import { Hono } from 'hono';

/** The ceiling: a bare Hono JSON echo on the same runtime and server adapter as the node. */
const app = new Hono();
app.post('/echo', async (c) => c.json(JSON.parse(await c.req.text())));
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, (info) => console.log(`listening ${info.port}`));
