import { describe, expect, it } from "vitest";
import { followUpCommand, inFlagTerms, shellQuote } from "../../src/service/cli-text.js";

describe("CLI texts", () => {
  it("validation failures name the cancel flags, first line only", () => {
    expect(inFlagTerms("app_id is required")).toBe("--app is required");
    expect(inFlagTerms("function_id is required")).toBe("--function is required");
    expect(inFlagTerms("started_before is required")).toBe("--before is required");
    expect(inFlagTerms("started_before must be in the past")).toBe("--before must be in the past");
    expect(inFlagTerms("started_after must be before started_before")).toBe("--after must be before --before");
    const compile = "invalid expression: ERROR: <input>:1:9: undeclared reference to 'app_id'\n | app_id == started_before\n | ^";
    expect(inFlagTerms(compile)).toBe(`--if: ${compile}`);
  });

  it("follow-up commands repeat the store flags, quoted for a shell, without a password", () => {
    expect(followUpCommand(["resume", "01HMRMPE5ZQ4AMNJ3S2N79QGRZ"], {})).toBe("cancelkit resume 01HMRMPE5ZQ4AMNJ3S2N79QGRZ");
    expect(followUpCommand(["resume", "X"], { db: "./data/ck.db" })).toBe("cancelkit resume X --db ./data/ck.db");
    expect(followUpCommand(["resume", "X", "--max-runs", "<higher>"], { db: "my store's.db" })).toBe(`cancelkit resume X --max-runs <higher> --db 'my store'\\''s.db'`);
    expect(followUpCommand(["list"], { postgres: "postgres://app@db:5432/runs" })).toBe("cancelkit list --postgres postgres://app@db:5432/runs");
    const redacted = followUpCommand(["list"], { postgres: "postgres://app:s3cret@db/runs" });
    expect(redacted).not.toContain("s3cret");
    expect(redacted).toBe("cancelkit list --postgres 'postgres://app:***@db/runs'   (with the password in place of ***)");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("plain-path/x.db")).toBe("plain-path/x.db");
  });
});
