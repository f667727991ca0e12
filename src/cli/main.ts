// `ozy` entry point: dispatches to src/cli/commands/<name>.ts.
import type { Command, CommandIo } from './command';

const COMMANDS = ['validate', 'render', 'plan', 'agent', 'status', 'logs', 'runs', 'secret', 'up', 'ingress', 'dns', 'dashboard', 'import'] as const;

function load(name: string): Command | undefined {
  if (!(COMMANDS as readonly string[]).includes(name)) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(`./commands/${name}`) as { command: Command }).command;
}

function topHelp(): string {
  const lines = COMMANDS.map((n) => `  ${n.padEnd(10)} ${load(n)?.summary ?? ''}`);
  return [
    'ozy: a GitOps, leaderless container scheduler',
    '',
    'Usage: ozy <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `ozy <command> --help` for the options of one command.',
    '',
  ].join('\n');
}

export async function main(argv: string[], io: Partial<CommandIo> = {}): Promise<number> {
  const full: CommandIo = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
    stdin: io.stdin ?? process.stdin,
  };
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    full.stdout.write(topHelp());
    return name === undefined ? 1 : 0;
  }
  const command = load(name);
  if (!command) {
    full.stderr.write(`ozy: unknown command "${name}"\n\n${topHelp()}`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    full.stdout.write(command.usage.endsWith('\n') ? command.usage : `${command.usage}\n`);
    return 0;
  }
  return command.run(rest, full);
}
