// Text.tsx — model output and tool results on the page.  Everything is
// rendered as text nodes (React escapes it): no HTML from a model, a tool or
// a web page ever becomes markup.  Code fences become <pre> blocks and
// unified diffs are coloured line by line.
import { memo } from 'react';
import { asDiff } from '../events';

export const Prose = memo(function Prose({ text }: { text: string }) {
  const parts = text.split(/```[a-zA-Z0-9_+-]*\n?/);
  return (
    <div className="prose">
      {parts.map((p, i) =>
        i % 2 === 1 ? (
          <pre key={i} className="code">
            <code>{p}</code>
          </pre>
        ) : (
          <span key={i}>{p}</span>
        ),
      )}
    </div>
  );
});

export function Output({ text }: { text: string }) {
  const diff = asDiff(text);
  if (!diff) return <pre className="code">{text}</pre>;
  return (
    <pre className="code diff" aria-label="diff">
      {diff.map((l, i) => (
        <div key={i} className={l.sign === '+' ? 'add' : l.sign === '-' ? 'del' : l.sign === '@' ? 'hunk' : undefined}>
          {l.text || ' '}
        </div>
      ))}
    </pre>
  );
}
