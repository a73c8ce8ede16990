/** The planted-problem contract shared by `demo` and the rule integration tests. */

export interface PlantContext {
  /** Superuser URL of the database to plant into (its cluster may be shared by other scenarios). */
  adminUrl: string;
  log(msg: string): void;
  onProgress?(done: number, total: number, label: string): void;
}

export interface Planted {
  /** Ends every session, loop and prepared transaction the plant left running; never throws. */
  release(): Promise<void>;
  /** One line per planted object, for the demo's output. */
  descriptions: string[];
}

/** A finding the plant must (expected) or must not (controls) produce; `object` is a partial match. */
export interface ObjectExpectation {
  rule: string;
  object: Record<string, unknown>;
}

export interface Scenario {
  id: string;
  /** The rule this scenario is about (its expectations may name related rules too). */
  rule: string;
  title: string;
  expected: readonly ObjectExpectation[];
  controls: readonly ObjectExpectation[];
  plant(ctx: PlantContext): Promise<Planted>;
}
