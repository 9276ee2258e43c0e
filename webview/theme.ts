// A canvas cannot read CSS variables: resolve the theme's --vscode-* colours into concrete values, and tell
// the caller when the theme changes so charts are redrawn.
export interface Theme {
  foreground: string;
  background: string;
  grid: string;
  fontFamily: string;
  palette: string[];
  error: string;
  threshold: string;
}

// Used in the stand-alone HTML report (no VS Code variables) and for any variable a theme leaves empty.
const FALLBACK: Record<string, string> = {
  '--vscode-editor-foreground': '#333333',
  '--vscode-editor-background': '#ffffff',
  '--vscode-editorWidget-border': '#c8c8c8',
  '--vscode-font-family': 'system-ui, sans-serif',
  '--vscode-charts-blue': '#1a85ff',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-green': '#388a34',
  '--vscode-charts-purple': '#652d90',
  '--vscode-charts-red': '#e51400',
  '--vscode-charts-yellow': '#bf8803',
  '--vscode-editorWarning-foreground': '#bf8803',
};

function cssVar(style: CSSStyleDeclaration, name: string): string {
  return style.getPropertyValue(name).trim() || FALLBACK[name] || '';
}

export function resolveTheme(): Theme {
  const s = getComputedStyle(document.body);
  const v = (n: string) => cssVar(s, n);
  return {
    foreground: v('--vscode-editor-foreground'),
    background: v('--vscode-editor-background'),
    grid: v('--vscode-editorWidget-border'),
    fontFamily: v('--vscode-font-family'),
    palette: ['blue', 'orange', 'green', 'purple', 'red', 'yellow'].map((c) => v(`--vscode-charts-${c}`)),
    error: v('--vscode-charts-red'),
    threshold: v('--vscode-editorWarning-foreground'),
  };
}

/** `#rgb`, `#rrggbb` or `rgb(...)` with an alpha; other syntaxes are returned as they are. */
export function withAlpha(color: string, alpha: number): string {
  let m = /^#([0-9a-f]{3})$/i.exec(color);
  if (m) color = '#' + [...m[1]].map((c) => c + c).join('');
  m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color);
  if (m) return `#${m[1]}${Math.round(alpha * 255).toString(16).padStart(2, '0')}`;
  const rgb = /^rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(color);
  if (rgb) return `rgba(${rgb[1].trim()}, ${rgb[2].trim()}, ${rgb[3].trim()}, ${alpha})`;
  return color;
}

/**
 * VS Code switches theme by changing the body's class and data-vscode-theme-kind, and the --vscode-* variables
 * on <html>: one redraw per frame, after all of them changed.
 */
export function onThemeChange(callback: () => void): void {
  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      callback();
    });
  };
  const observer = new MutationObserver(schedule);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
}
