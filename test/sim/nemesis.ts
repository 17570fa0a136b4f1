// The faults of one run: crashes (leaders more often), pauses longer than an election timeout,
// partitions (symmetric, leader isolated, one-way, bridge), membership changes (add a learner,
// promote it, remove a voter, possibly the leader) and leadership transfers. Every enabled kind is
// tried early in a shuffled order, so that no run passes without the faults it was meant to have.

import type { ConfChange, NodeId, Ready, SeededRandom } from "../../raft/index.js";
import type { FaultKind } from "./options.js";
import type { SimNode } from "./sim_node.js";
import type { Simulation } from "./simulation.js";

export class Nemesis {
  private readonly plan: FaultKind[];
  private partitioned = false;
  private churning = false;
  /** When a leader was last cut off right after proposing a configuration change. */
  private changeCutOff: { at: number; leader: NodeId } | undefined;
  private partitionGeneration = 0;
  private nextNodeId: number;
  /** Nodes that were members at some point; one that is no longer is retired. */
  private readonly everMember = new Set<NodeId>();

  constructor(
    private readonly sim: Simulation,
    private readonly random: SeededRandom,
  ) {
    this.plan = [...sim.options.faults];
    for (let i = this.plan.length - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [this.plan[i], this.plan[j]] = [this.plan[j]!, this.plan[i]!];
    }
    this.nextNodeId = sim.options.nodes + 1;
  }

  act(): void {
    const kinds = this.sim.options.faults;
    if (kinds.length === 0) return;
    this.retireRemovedNodes();
    const kind = this.plan.shift() ?? this.random.pick(kinds);
    // A planned fault that could not happen now (no leader, too many nodes down) is tried again next time.
    if (!this.inject(kind) && !this.sim.stats.faults[kind]) this.plan.unshift(kind);
  }

  private inject(kind: FaultKind): boolean {
    switch (kind) {
      case "crash":
        return this.crash();
      case "pause":
        return this.pause();
      case "partition":
        return this.partition();
      case "membership":
        return this.changeMembership();
      case "transfer":
        return this.transfer();
      case "clock":
        return this.skewClocks();
      case "churn":
        return this.churn();
      case "lossy":
        return this.lossy();
    }
  }

  /** A flaky network for a while: a fifth to two fifths of all messages are lost. */
  private lossy(): boolean {
    const sim = this.sim;
    if (sim.network.extraLossRate > 0) return false;
    sim.network.extraLossRate = 0.2 + this.random.float() * 0.2;
    sim.countFault("lossy");
    sim.log(`network lossy: ${(sim.network.extraLossRate * 100).toFixed(0)}% extra loss`);
    sim.queue.after(this.ticks(20 + this.random.int(40)), {
      kind: "call",
      run: () => {
        sim.network.extraLossRate = 0;
        sim.log("network no longer lossy");
      },
    });
    return true;
  }

  /**
   * A burst of leader crashes a few ticks apart, each restarted soon after: many short terms whose
   * leaders leave entries only partly replicated, the ground of the Raft paper's Figure 8.
   */
  private churn(): boolean {
    if (this.churning) return false;
    this.churning = true;
    this.sim.countFault("churn");
    this.sim.log("leader churn begins");
    let rounds = 4 + this.random.int(10);
    const next = (): void => {
      if (!this.sim.active || rounds-- <= 0) {
        this.churning = false;
        return;
      }
      const leader = this.sim.leader();
      if (leader !== undefined && this.victim() !== undefined) {
        this.sim.crashNode(leader);
        this.restartLater(leader, 8);
      }
      this.sim.queue.after(this.ticks(2 + this.random.int(14)), { kind: "call", run: next });
    };
    next();
    return true;
  }

  /**
   * The worst case for a lease within the drift bound: the leader's clock runs slow (its lease lasts
   * longer in real time) and everyone else's fast (their election timeouts pass sooner). Often the
   * leader is then cut off, so that the others elect a new leader as early as their clocks allow.
   */
  private skewClocks(): boolean {
    const sim = this.sim;
    const leader = sim.leader();
    if (leader === undefined) return false;
    const drift = sim.options.clockDrift;
    for (const node of sim.nodes.values()) {
      const rate = node === leader ? 1 - drift : 1 + drift;
      node.tickPeriod = Math.round(sim.options.tickMicros / rate);
    }
    sim.countFault("clock");
    sim.log(`clocks skewed: leader n${leader.id} slow, others fast (drift ${drift})`);
    if (this.random.chance(0.7)) {
      if (this.partitioned) sim.network.heal();
      this.partitioned = false;
      this.partition(leader.id);
    }
    return true;
  }

  /**
   * Membership changes are most dangerous right after a change of leader, when an earlier leader's
   * change may still be uncommitted: try one then, half the time (the real core refuses it until the
   * new leader has committed an entry of its term).
   */
  onNewLeader(node: SimNode): void {
    const faults = this.sim.options.faults;
    if (faults.includes("membership") && this.random.chance(0.5)) {
      this.sim.queue.after(0, { kind: "call", run: () => node.raft?.role === "leader" && this.changeMembership(node, true) });
    }
    // While an earlier leader's change may be only in its own log, the network splits anew the
    // moment a leader is elected: two leaders' changes then race on different sides (Ongaro's bug).
    const cut = this.changeCutOff;
    const racing = cut !== undefined && cut.leader !== node.id && this.sim.now - cut.at < this.ticks(60);
    if (racing && this.random.chance(Number(process.env.Q2 ?? 0.5))) {
      this.sim.queue.after(0, { kind: "call", run: () => this.sim.active && this.splitLeaders(cut.leader, node.id) });
    }
    // During churn a new leader is often cut off or killed at once: its log then holds entries of
    // its term that few others have, which it may later try to commit as a leader again.
    if (this.churning && this.random.chance(0.6)) {
      const isolate = this.random.chance(0.5);
      // Half the time at once: its first appends then never leave, and only it has its term's entry.
      const delay = this.random.chance(0.5) ? 0 : this.random.int(3_000);
      this.sim.queue.after(delay, {
        kind: "call",
        run: () => {
          if (node.state !== "up" || !this.sim.active) return;
          if (isolate && !this.partitioned) {
            this.partition(node.id);
          } else if (this.victim() !== undefined) {
            this.sim.crashNode(node);
            this.restartLater(node, 8);
          }
        },
      });
    }
  }

  /**
   * During churn, a leader sometimes dies the moment its commit index moves (FoundationDB's BUGGIFY
   * idea: faults at interesting points, not only at random times); what it just sent is lost with it.
   */
  onReady(node: SimNode, ready: Ready): void {
    const r = node.raft;
    if (!this.churning || r?.role !== "leader" || ready.hardState === undefined) return;
    if (ready.committedEntries.length === 0 || !this.random.chance(0.25) || this.victim() === undefined) return;
    this.sim.crashNode(node);
    this.sim.log(`n${node.id} crashed as its commit index moved to ${ready.hardState.commit}`);
    this.restartLater(node, 8);
  }

  /**
   * During churn, a leader sometimes dies just after it applied entries and answered their clients,
   * before what it sent last left its send queue: the moment an acknowledged write is most exposed.
   */
  onPersisted(node: SimNode, ready: Ready): void {
    const r = node.raft;
    if (!this.churning || r?.role !== "leader" || ready.committedEntries.length === 0) return;
    if (!this.random.chance(0.5) || this.victim() === undefined) return;
    this.sim.crashNode(node);
    this.sim.log(`n${node.id} crashed just after applying up to ${r.log.applied}`);
    this.restartLater(node, 8);
  }

  /** Restarts a crashed node 1 to `ticksMax` ticks from now. */
  private restartLater(node: SimNode, ticksMax: number): void {
    this.sim.queue.after(this.ticks(1 + this.random.int(ticksMax)), { kind: "call", run: () => this.restart(node) });
  }

  private restart(node: SimNode): void {
    if (node.state !== "crashed" || !this.sim.active) return;
    this.sim.startNode(node);
    this.sim.log(`n${node.id} restarted`);
  }

  healAll(): void {
    const sim = this.sim;
    sim.network.heal();
    sim.network.extraLossRate = 0;
    this.partitioned = false;
    for (const node of sim.nodes.values()) {
      if (node.state === "paused") sim.resumeNode(node);
      else if (node.state === "crashed") {
        sim.startNode(node);
        sim.log(`n${node.id} restarted`);
      }
    }
  }

  private ticks(n: number): number {
    return n * this.sim.options.tickMicros;
  }

  /** Up to a minority of voters may be down (crashed or paused) at once, so the cluster can progress. */
  private victim(): SimNode | undefined {
    const sim = this.sim;
    const leader = sim.leader();
    const config = leader?.raft?.currentConfiguration();
    const voters = config?.voters ?? [...sim.nodes.keys()];
    const down = voters.filter((id) => sim.nodes.get(id)?.state !== "up").length;
    if (down + 1 > Math.floor((voters.length - 1) / 2)) return undefined;
    if (leader !== undefined && this.random.chance(0.5)) return leader;
    const up = sim.members().filter((n) => n.state === "up");
    return up.length === 0 ? undefined : this.random.pick(up);
  }

  private crash(): boolean {
    const node = this.victim();
    if (node === undefined) return false;
    this.sim.countFault("crash");
    this.sim.crashNode(node);
    this.restartLater(node, 30);
    return true;
  }

  private pause(): boolean {
    const node = this.victim();
    if (node === undefined) return false;
    this.sim.countFault("pause");
    this.sim.pauseNode(node);
    const election = this.sim.options.raft.electionTicks ?? 10;
    this.sim.queue.after(this.ticks(election + this.random.int(3 * election)), { kind: "call", run: () => this.sim.resumeNode(node) });
    return true;
  }

  /**
   * Splits the network so that an earlier leader and the new one are on different sides, each with
   * a random share of the others.
   */
  private splitLeaders(earlier: NodeId, current: NodeId): boolean {
    const sim = this.sim;
    const others = sim.members().map((n) => n.id).filter((id) => id !== earlier && id !== current);
    for (let i = others.length - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      [others[i], others[j]] = [others[j]!, others[i]!];
    }
    const k = this.random.int(others.length + 1);
    sim.network.heal();
    sim.network.partition([[earlier, ...others.slice(0, k)], [current, ...others.slice(k)]]);
    this.partitioned = true;
    sim.countFault("partition");
    sim.log(`partition (leaders split): blocked ${sim.network.describe()}`);
    this.healLater(10 + this.random.int(40));
    return true;
  }

  /** A random partition, or `isolated` cut off from everyone. */
  private partition(isolated?: NodeId, ticks?: number): boolean {
    const sim = this.sim;
    if (this.partitioned) {
      sim.network.heal();
      this.partitioned = false;
      sim.log("network healed");
      return false;
    }
    const ids = sim.members().map((n) => n.id);
    if (ids.length < 2) return false;
    const leader = isolated ?? sim.leader()?.id;
    const shuffled = [...ids];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const style = isolated !== undefined ? "isolateLeader" : this.random.pick(["symmetric", "isolateLeader", "oneWay", "bridge"] as const);
    if (style === "isolateLeader" && leader !== undefined) {
      sim.network.partition([[leader], ids.filter((id) => id !== leader)]);
    } else if (style === "oneWay") {
      const [a, b] = [shuffled[0]!, shuffled[1]!];
      const from = leader !== undefined && this.random.chance(0.5) ? leader : a;
      sim.network.blockOneWay(from, from === b ? a : b);
    } else if (style === "bridge" && ids.length >= 3) {
      // Two sides that each reach the bridge node but not each other.
      const [bridge, ...rest] = shuffled;
      const cut = 1 + this.random.int(rest.length - 1);
      const left = rest.slice(0, cut);
      const right = rest.slice(cut);
      for (const x of left) for (const y of right) sim.network.partition([[x], [y]]);
      sim.log(`bridge through n${bridge}`);
    } else {
      const cut = 1 + this.random.int(shuffled.length - 1);
      sim.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
    }
    this.partitioned = true;
    sim.countFault("partition");
    sim.log(`partition (${style}): blocked ${sim.network.describe()}`);
    this.healLater(ticks ?? (isolated !== undefined ? 2 + this.random.int(15) : 10 + this.random.int(50)));
    return true;
  }

  private healLater(ticks: number): void {
    const sim = this.sim;
    const generation = ++this.partitionGeneration;
    sim.queue.after(this.ticks(ticks), {
      kind: "call",
      run: () => {
        // A later partition has its own time to heal.
        if (!this.partitioned || generation !== this.partitionGeneration) return;
        sim.network.heal();
        this.partitioned = false;
        sim.log("network healed");
      },
    });
  }

  /**
   * One single-server change. `eager` (right after an election) picks any change that moves a
   * quorum, promoting a learner even before it caught up: that is when two leaders' changes can race.
   */
  private changeMembership(chosen?: SimNode, eager = false): boolean {
    const sim = this.sim;
    const leader = chosen ?? sim.leader();
    const raw = leader?.raw;
    if (leader === undefined || raw === undefined) return false;
    const config = raw.raft.currentConfiguration();
    for (const id of [...config.voters, ...config.learners]) this.everMember.add(id);
    const learner = config.learners[0];
    let change;
    if (eager) {
      const options: ConfChange[] = [];
      if (learner !== undefined) options.push({ type: "addVoter", nodeId: learner });
      if (config.voters.length > 3) options.push({ type: "removeNode", nodeId: this.random.pick(config.voters) });
      if (options.length === 0) return false;
      change = this.random.pick(options);
    } else if (learner !== undefined) {
      const match = raw.status().matches.get(learner) ?? 0;
      // Promote a learner that caught up; one that did not may be given up on.
      if (match + 5 >= raw.raft.log.committed) change = { type: "addVoter", nodeId: learner } as const;
      else if (this.random.chance(0.3)) change = { type: "removeNode", nodeId: learner } as const;
      else return false;
    } else if (config.voters.length > sim.options.nodes || (config.voters.length > 3 && this.random.chance(0.3))) {
      // Sometimes the leader removes itself (§4.2.2).
      const target = this.random.chance(0.3) ? leader.id : this.random.pick(config.voters);
      change = { type: "removeNode", nodeId: target } as const;
    } else {
      const id = this.nextNodeId++;
      const node = sim.addNode(id);
      sim.startNode(node);
      change = { type: "addLearner", nodeId: id } as const;
    }
    const result = raw.proposeConfChange(change);
    sim.log(`membership: n${leader.id} proposes ${change.type} n${change.nodeId}: ${result.kind}${result.kind === "dropped" ? ` (${result.message})` : ""}`);
    if (result.kind === "appended") sim.countFault("membership");
    leader.process();
    // Sometimes a leader is cut off, long enough for an election, the moment it proposed a change of
    // voters: the change is then only in its log.
    const changesVoters = change.type === "addVoter" || (change.type === "removeNode" && config.voters.includes(change.nodeId));
    if (result.kind === "appended" && !eager && changesVoters && this.random.chance(Number(process.env.Q1 ?? 0.4))) {
      this.changeCutOff = { at: sim.now, leader: leader.id };
      if (this.partitioned) sim.network.heal();
      this.partitioned = false;
      this.partition(leader.id, 20 + this.random.int(20));
    }
    return result.kind === "appended";
  }

  /** A node that was a member and is not in the newest committed configuration is shut down for good. */
  private retireRemovedNodes(): void {
    const sim = this.sim;
    const leader = sim.leader()?.raft;
    if (leader === undefined || leader.configs.currentIndex() > leader.log.committed) return;
    const config = leader.currentConfiguration();
    for (const id of [...config.voters, ...config.learners]) this.everMember.add(id);
    for (const node of sim.nodes.values()) {
      const member = config.voters.includes(node.id) || config.learners.includes(node.id);
      if (member || node.state === "retired" || !this.everMember.has(node.id)) continue;
      node.crash();
      node.state = "retired";
      sim.log(`n${node.id} retired (removed from the group)`);
    }
  }

  private transfer(): boolean {
    const sim = this.sim;
    const leader = sim.leader();
    const raw = leader?.raw;
    if (leader === undefined || raw === undefined) return false;
    const voters = raw.raft.currentConfiguration().voters.filter((id) => id !== leader.id);
    if (voters.length === 0) return false;
    const to = this.random.pick(voters);
    sim.countFault("transfer");
    sim.log(`transfer: n${leader.id} hands leadership to n${to}`);
    raw.transferLeader(to);
    leader.process();
    return true;
  }
}

