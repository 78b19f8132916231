/**
 * Whether `attempt` got the lock it asked for: false when Postgres refused it as not available
 * (55P03: `nowait`, or `lock_timeout` ran out), its own error otherwise.
 */
export async function gotLock(attempt: () => Promise<unknown>): Promise<boolean> {
  try {
    await attempt();
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') return false;
    throw error;
  }
}
