// s3rver in its own process: stopping it is a real outage (connections refused), and its
// ListObjectsV2 continuation tokens use DES, which Node 17+ only has with the OpenSSL legacy
// provider that this process is started with. Usage: node s3rver-process.mjs DIR PORT BUCKET
import S3rver from 's3rver';
import { conditionalWrites } from './s3rver-conditional.mjs';

const [directory, port, bucket] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: Number(port), silent: true, directory, configureBuckets: [{ name: bucket }] });
// First in the chain: conditional PUTs as S3 answers them (s3rver ignores the headers).
server.middleware.unshift(conditionalWrites(server));
const address = await server.run();
process.stdout.write(`${address.port}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
// The parent holds stdin open: when it dies (a crashed test worker), so does this server.
process.stdin.on('end', () => process.exit(0)).resume();
