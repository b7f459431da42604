import { afterEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { appStatus, openFile, summarizeFile } from "./index";

afterEach(() => clearMocks());

describe("api wrappers", () => {
  it("calls app_status and returns its payload", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "app_status") return { version: "0.1.0", engine: { state: "loading" } };
      return undefined;
    });
    const status = await appStatus();
    expect(calls).toEqual(["app_status"]);
    expect(status.engine.state).toBe("loading");
  });
});

describe("document wrappers", () => {
  it("names the chosen file by its token only, never by a path", async () => {
    const seen: Array<[string, Record<string, unknown>]> = [];
    mockIPC((cmd, args) => {
      seen.push([cmd, args as Record<string, unknown>]);
      if (cmd === "open_file") return { token: 3, name: "report.pdf" };
      if (cmd === "summarize_file") return { conversation_id: 9, coverage: "Covered all 2 pages in 1 part." };
      return undefined;
    });
    const file = await openFile();
    expect(file).toEqual({ token: 3, name: "report.pdf" });
    const done = await summarizeFile(file!, () => {}, "bullets");
    expect(done.conversation_id).toBe(9);
    const [cmd, args] = seen[1];
    expect(cmd).toBe("summarize_file");
    expect(args.token).toBe(3);
    expect(args.length).toBe("bullets");
    expect(JSON.stringify(args)).not.toContain("/");
  });
});
