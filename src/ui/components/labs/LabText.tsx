/**
 * The labs' text (src/labs/*.ts: context, explain, tryNext): paragraphs split by blank
 * lines, with `code`, **bold** and [links](https://...). Rendered as React elements, never
 * as HTML, so a lab's text cannot inject markup.
 */
import type { ReactElement, ReactNode } from 'react';

const INLINE = /(`[^`]+`|\*\*[^*]+\*\*|\[[^\]]+\]\(https?:\/\/[^)\s]+\))/;

function inline(text: string): ReactNode[] {
  return text.split(INLINE).map((part, i) => {
    if (part.startsWith('`') && part.endsWith('`') && part.length > 1) return <code key={i}>{part.slice(1, -1)}</code>;
    if (part.startsWith('**') && part.endsWith('**') && part.length > 3) return <strong key={i}>{part.slice(2, -2)}</strong>;
    const link = /^\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)$/.exec(part);
    if (link)
      return (
        <a key={i} href={link[2]} target="_blank" rel="noreferrer">
          {link[1]}
        </a>
      );
    return part;
  });
}

export function LabText({ text, className }: { readonly text: string; readonly className?: string }): ReactElement {
  return (
    <div className={className ? `lab-text ${className}` : 'lab-text'}>
      {text
        .split(/\n\s*\n/)
        .map((p) => p.trim())
        .filter(Boolean)
        .map((p, i) => (
          <p key={i}>{inline(p)}</p>
        ))}
    </div>
  );
}

/** One line of lab text (a question, a check) with the same inline marks. */
export function LabInline({ text }: { readonly text: string }): ReactElement {
  return <>{inline(text)}</>;
}
