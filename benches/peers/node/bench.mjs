// The workload of benches/workload as Middy middlewares: N middlewares, each adding
// the event's weight to a counter in `before` and the response's in `after`, around
// a handler that returns its event. Prints one line per N:
//   middy <N> <ns per invocation>
// N = 0 is the bare handler, invoked without Middy.
import middy from "@middy/core";

const DEPTHS = [0, 1, 5, 10, 20];
const INVOCATIONS = Number(process.env.INVOCATIONS ?? 200_000);
const ROUNDS = 5;

let steps = 0;
const weight = (value) => (value !== null && typeof value === "object" ? 1 : 0);

const step = () => ({
  before: async (request) => {
    steps += weight(request.event);
  },
  after: async (request) => {
    steps += weight(request.response);
  },
});

const echo = async (event) => event;

function build(depth) {
  if (depth === 0) return echo;
  let handler = middy(echo);
  for (let i = 0; i < depth; i += 1) handler = handler.use(step());
  return handler;
}

const event = { id: 42, customer: "c-1234", items: [{ sku: "A-1", quantity: 2 }], total_cents: 1999 };
const context = { awsRequestId: "8f5c7c3e", getRemainingTimeInMillis: () => 30_000 };

for (const depth of DEPTHS) {
  const handler = build(depth);
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < INVOCATIONS; i += 1) {
      await handler(event, context);
    }
    const ns = Number(process.hrtime.bigint() - start) / INVOCATIONS;
    best = Math.min(best, ns);
  }
  const expected = 2 * depth * ROUNDS * INVOCATIONS;
  if (depth > 0 && steps !== expected) throw new Error(`ran ${steps} steps, expected ${expected}`);
  steps = 0;
  console.log(`middy\t${depth}\t${best.toFixed(1)}`);
}
