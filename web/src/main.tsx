import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { SignIn } from "./signin";
import { InvokeView, ReceiptView } from "./invoke";
import { EarningsView } from "./earnings";
import { DatanetsView } from "./datanets";
import { PublishView } from "./publish";
import { OperatorView } from "./operator";

const views = [
  { path: "", label: "Invoke" },
  { path: "earnings", label: "Earnings" },
  { path: "datanets", label: "Datanets" },
  { path: "publish", label: "Publish" },
  { path: "operator", label: "Operator" },
];

function useRoute(): string[] {
  const parse = () =>
    location.hash
      .replace(/^#\/?/, "")
      .split("/")
      .map((part) => {
        try {
          return decodeURIComponent(part);
        } catch {
          return part; // a malformed escape is taken as written
        }
      });
  const [route, set] = useState(parse());
  useEffect(() => {
    const on = () => set(parse());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

function App() {
  const [view, ...rest] = useRoute();
  let body;
  switch (view) {
    case "earnings":
      body = <EarningsView account={rest[0]} />;
      break;
    case "datanets":
      body = <DatanetsView name={rest.join("/")} />;
      break;
    case "publish":
      body = <PublishView />;
      break;
    case "operator":
      body = <OperatorView />;
      break;
    case "receipt":
      body = <ReceiptView id={rest[0] ?? ""} />;
      break;
    default:
      body = <InvokeView />;
  }
  return (
    <>
      <header>
        <div class="brand">
          <a href="#/">Tollgate</a>
          <span class="tag">who every answer paid</span>
        </div>
        <SignIn />
        <nav aria-label="Views">
          {views.map((v) => (
            <a href={"#/" + v.path} aria-current={view === v.path || (!view && !v.path) ? "page" : undefined}>
              {v.label}
            </a>
          ))}
        </nav>
      </header>
      <main id="main">{body}</main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
