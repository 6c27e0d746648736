// Hello: greets the input, with a random number from the request's seed and
// the block time; run it with `outlayer run examples/js/hello.js --input NEAR`.
const name = outlayer.input().trim() || "world";
outlayer.output({
  greeting: `Hello, ${name}!`,
  lucky: Math.floor(Math.random() * 100),
  at: new Date().toISOString(),
});
