import { afterEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { appStatus } from "./index";

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
