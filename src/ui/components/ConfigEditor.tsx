/**
 * An xl.cfg editor: a plain textarea with line numbers, and a config error written next
 * to the line it is about (ConfigError's `.line`), in an overlay that mirrors the text
 * and scrolls with it. A kernel image given to the editor (uploaded or dropped) is what
 * a `kernel` naming its file name loads.
 */
import { useState, type ReactElement } from 'react';

export interface ConfigEditorProps {
  readonly text: string;
  readonly onChange: (text: string) => void;
  readonly error: { readonly message: string; readonly line: number | null } | null;
  readonly image: { readonly name: string; readonly size: number } | null;
  readonly pending: boolean;
  readonly onCreate: () => void;
  readonly onClose: () => void;
}

export function ConfigEditor(p: ConfigEditorProps): ReactElement {
  const [scroll, setScroll] = useState({ top: 0, left: 0 });
  const lines = p.text.split('\n');
  const errLine = p.error?.line ?? null;
  const message = p.error ? (errLine !== null && !p.error.message.startsWith('line ') ? `line ${errLine}: ${p.error.message}` : p.error.message) : '';
  const shift = { transform: `translate(${-scroll.left}px, ${-scroll.top}px)` };
  return (
    <div className="config-editor">
      <div className="editor">
        <div className="gutter" aria-hidden="true">
          <div style={{ transform: `translateY(${-scroll.top}px)` }}>
            {lines.map((_, i) => (
              <div key={i} className={i + 1 === errLine ? 'bad' : undefined}>
                {i + 1}
              </div>
            ))}
          </div>
        </div>
        <div className="editor-body">
          <textarea
            data-testid="config-editor"
            aria-label="xl.cfg of the new domain"
            aria-invalid={p.error !== null}
            aria-describedby={p.error ? 'config-error-message' : undefined}
            spellCheck={false}
            wrap="off"
            rows={Math.min(14, Math.max(7, lines.length + 1))}
            value={p.text}
            onChange={(e) => p.onChange(e.target.value)}
            onScroll={(e) => setScroll({ top: e.currentTarget.scrollTop, left: e.currentTarget.scrollLeft })}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) p.onCreate();
            }}
          />
          <div className="editor-overlay" aria-hidden="true">
            <div style={shift}>
              {lines.map((l, i) => (
                <div key={i} className="ol">
                  <span className="ghost">{l === '' ? ' ' : l}</span>
                  {i + 1 === errLine ? (
                    <span className="inline-error" data-testid="config-error" data-line={errLine}>
                      {'  ◀ '}
                      {p.error?.message.replace(/^line \d+: /, '')}
                    </span>
                  ) : null}
                </div>
              ))}
            </div>
          </div>
        </div>
      </div>
      {p.error ? (
        <p
          id="config-error-message"
          className="error-line"
          role="alert"
          data-testid={errLine === null ? 'config-error' : 'config-error-message'}
          data-line={errLine ?? ''}
        >
          {message}
        </p>
      ) : null}
      <p className="muted editor-hint" data-testid="config-image">
        {p.image
          ? `image: ${p.image.name} (${Math.ceil(p.image.size / 1024)} KiB), loaded by kernel = "${p.image.name}"`
          : 'kernel: an image under guests/ (ls in Domain-0 lists them), or one you upload or drop now'}
      </p>
      <div className="row">
        <button type="button" className="primary" data-testid="config-create" disabled={p.pending} onClick={p.onCreate} title="Ctrl+Enter">
          Create from this config
        </button>
        <button type="button" data-testid="config-close" onClick={p.onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
