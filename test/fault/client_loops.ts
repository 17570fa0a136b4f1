// The loop the lock, recipe-lock and lease workloads share: `clients` workers, each taking one round
// after another until stop(), each round on the next node that runs (worker i, round r: the
// (i + r)-th live node), so that every worker visits every node and a dead node is skipped.

import { type NodeClients, sleep } from "./clients.js";

export abstract class ClientLoops {
  #running = true;
  private readonly loops: Promise<void>[] = [];

  constructor(
    protected readonly nodes: readonly NodeClients[],
    private readonly workers: number,
  ) {}

  start(): void {
    for (let i = 0; i < this.workers; i++) this.loops.push(this.loop(i));
  }

  /** False once stop() was called: a round that loops on its own should end. */
  protected get running(): boolean {
    return this.#running;
  }

  /** The (turn)-th node that runs, going round them; undefined when none does. */
  protected liveNode(turn: number): { node: NodeClients; nodeIndex: number } | undefined {
    const alive = this.nodes.map((node, nodeIndex) => ({ node, nodeIndex })).filter(({ node }) => node.node.process !== undefined);
    return alive[turn % Math.max(1, alive.length)];
  }

  /** Lets every round in flight finish, then resolves. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.loops);
  }

  /** One round on `node` (its index in `nodes` is `nodeIndex`); `turn` varies from round to round. */
  protected abstract round(node: NodeClients, turn: number, nodeIndex: number): Promise<void>;

  private async loop(index: number): Promise<void> {
    for (let round = 0; this.#running; round++) {
      const pick = this.liveNode(index + round);
      if (pick === undefined) {
        await sleep(100);
        continue;
      }
      await this.round(pick.node, index + round, pick.nodeIndex);
    }
  }
}
