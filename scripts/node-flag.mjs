// `--node PATH` for the scripts that run tests or benches on another Node version: removes the
// flag from `args` and returns the node binary to use (this one when the flag is absent).
export function takeNodeFlag(args, usage) {
  const at = args.indexOf('--node');
  if (at === -1) return process.execPath;
  const node = args[at + 1];
  if (!node) {
    console.error(usage);
    process.exit(2);
  }
  args.splice(at, 2);
  return node;
}
