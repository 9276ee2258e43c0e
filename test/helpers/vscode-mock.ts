// A small stand-in for the `vscode` module, enough to run VS Code layer classes under node:test.
// Importing this file first makes `require('vscode')` (external in the test bundles) resolve to it.
import Module from 'node:module';
import { mkdir, readFile } from 'node:fs/promises';

type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  event = (l: Listener<T>) => {
    this.listeners.push(l);
    return { dispose: () => { this.listeners = this.listeners.filter((x) => x !== l); } };
  };
  fire(e: T): void {
    this.listeners.forEach((l) => l(e));
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(readonly scheme: string, readonly fsPath: string) {}
  static file(p: string): Uri {
    return new Uri('file', p);
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, [base.fsPath, ...parts].join('/'));
  }
  toString(): string {
    return `${this.scheme}://${this.fsPath}`;
  }
}

export class Memento {
  private values = new Map<string, unknown>();
  get<T>(key: string, fallback?: T): T | undefined {
    return this.values.has(key) ? (this.values.get(key) as T) : fallback;
  }
  async update(key: string, value: unknown): Promise<void> {
    this.values.set(key, value);
  }
}

export interface Cancellation {
  cancel(): void;
}

/** What the tests drive and observe: messages shown, progress reported, and a cancel button per run. */
export const ui = {
  messages: [] as { level: 'info' | 'warning' | 'error'; text: string }[],
  progress: [] as string[],
  /** Cancels the progress notification of the run in flight. */
  cancels: [] as Cancellation[],
  /** Quick picks shown (their rows), answered by `answerPick` (undefined = closed). */
  picks: [] as { label: string; description?: string }[][],
  answerPick: (_items: { label: string }[]): { label: string } | undefined => undefined,
  opened: [] as string[],
  reset(): void {
    this.messages = [];
    this.progress = [];
    this.cancels = [];
    this.picks = [];
    this.answerPick = () => undefined;
    this.opened = [];
  },
};

const message = (level: 'info' | 'warning' | 'error') => async (text: string) => {
  ui.messages.push({ level, text });
  return undefined;
};

export const vscode = {
  EventEmitter,
  Uri,
  ProgressLocation: { Notification: 15 },
  window: {
    showInformationMessage: message('info'),
    showWarningMessage: message('warning'),
    showErrorMessage: message('error'),
    async showQuickPick<T extends { label: string }>(items: T[]): Promise<T | undefined> {
      ui.picks.push(items);
      return ui.answerPick(items) as T | undefined;
    },
    async showTextDocument(uri: Uri): Promise<void> {
      ui.opened.push(uri.fsPath);
    },
    async withProgress<R>(_opts: unknown, task: (p: { report(v: { message?: string }): void }, token: { onCancellationRequested(l: () => void): void }) => Promise<R>): Promise<R> {
      const listeners: (() => void)[] = [];
      ui.cancels.push({ cancel: () => listeners.forEach((l) => l()) });
      return task({ report: (v) => v.message && ui.progress.push(v.message) }, { onCancellationRequested: (l) => listeners.push(l) });
    },
  },
  workspace: {
    workspaceFolders: undefined as { uri: Uri }[] | undefined,
    getConfiguration: () => ({ get: <T>(_key: string, fallback: T): T => fallback }),
    fs: {
      async createDirectory(uri: Uri): Promise<void> {
        await mkdir(uri.fsPath, { recursive: true });
      },
      async readFile(uri: Uri): Promise<Uint8Array> {
        return readFile(uri.fsPath);
      },
    },
  },
};

export function logChannel() {
  const lines: string[] = [];
  const log = (level: string) => (m: string) => lines.push(`${level} ${m}`);
  return { lines, info: log('info'), warn: log('warn'), error: log('error'), show: () => undefined };
}

const loader = Module as unknown as { _load(request: string, parent: unknown, isMain: boolean): unknown };
const load = loader._load;
loader._load = function (request, parent, isMain) {
  return request === 'vscode' ? vscode : load.call(this, request, parent, isMain);
};
