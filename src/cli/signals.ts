// Long-running commands (`ozy ingress`, `ozy dns`) run until SIGINT or SIGTERM.

/** Resolves with the first SIGINT or SIGTERM received from now on. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
