/**
 * Whether a webhook is healthy, decided from its failures alone. Pure: the sender applies it
 * (sender.ts `settle`). A receiver that has answered nothing but failures for `disableAfterMs`
 * is switched off when another delivery is given up, rather than have every event retried for
 * hours against it for ever; its company is told, and switching it on again starts afresh.
 */

export interface HealthAfterFailure {
  /** The first failure since the last delivery that went through. */
  failingSince: Date;
  /** Switch the webhook off now. */
  disable: boolean;
}

export function healthAfterFailure(input: {
  failingSince: Date | null;
  /** This attempt was its delivery's last: the delivery is given up. */
  givenUp: boolean;
  active: boolean;
  now: Date;
  /** 0: never switched off. */
  disableAfterMs: number;
}): HealthAfterFailure {
  const failingSince = input.failingSince ?? input.now;
  const failingFor = input.now.getTime() - failingSince.getTime();
  return {
    failingSince,
    disable: input.active && input.givenUp && input.disableAfterMs > 0 && failingFor >= input.disableAfterMs,
  };
}
