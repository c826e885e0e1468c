// Small pieces every view uses.

// A column: its heading, and "num" (right-aligned figures) and/or "wide"
// (hidden on a phone).
export type Column = [label: string, cls?: string];

export function Head({ cols }: { cols: Column[] }) {
  return (
    <thead>
      <tr>
        {cols.map(([label, cls]) => (
          <th scope="col" class={cls}>
            {label}
          </th>
        ))}
      </tr>
    </thead>
  );
}

// Pager walks a listing's pages: the tokens of the pages before the one
// shown are kept, so "back" needs no token from the node.
export function Pager({ tokens, next, go, labels = ["Newer", "Older"] }: { tokens: string[]; next: string; go: (tokens: string[]) => void; labels?: [string, string] }) {
  return (
    <div class="row">
      <button type="button" class="secondary" disabled={tokens.length < 2} onClick={() => go(tokens.slice(0, -1))}>
        {labels[0]}
      </button>
      <button type="button" class="secondary" disabled={!next} onClick={() => go([...tokens, next])}>
        {labels[1]}
      </button>
    </div>
  );
}
