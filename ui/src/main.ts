import "./styles.css";
import { appStatus, onEngineStatus, type EngineStatus } from "./api";
import { statusCard, statusPill } from "./view";

const root = document.querySelector<HTMLDivElement>("#app");

function render(status: EngineStatus): void {
  if (!root) return;
  const header = document.createElement("header");
  header.className = "topbar";
  const brand = document.createElement("div");
  brand.className = "brand";
  const logo = document.createElement("img");
  logo.src = "/icon.png";
  logo.alt = "";
  const title = document.createElement("h1");
  title.textContent = "Pith";
  brand.append(logo, title);
  header.append(brand, statusPill(status));
  const main = document.createElement("main");
  main.append(statusCard(status));
  root.replaceChildren(header, main);
}

render({ state: "loading" });
void onEngineStatus(render);
appStatus()
  .then((s) => render(s.engine))
  .catch((e: unknown) => render({ state: "failed", error: { code: "IO", message: String(e) } }));
