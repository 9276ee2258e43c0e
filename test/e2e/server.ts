// One code-server per scenario: a fresh profile, loopback only, everything that would reach the network
// or open a walkthrough switched off.
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { codeServerBin } from './paths';
import { delay, spawnGroup, type ProcessGroup } from './proc';
import { isolatedEnv } from './vsix';

const settings: Record<string, unknown> = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.enableExperiments': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'json.schemaDownload.enable': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  'git.enabled': false,
  'chat.disableAIFeatures': true,
  'workbench.colorTheme': 'Default Light Modern',
  // Keeps notifications and editors where the scenarios look for them.
  'workbench.editor.enablePreview': false,
  'window.restoreWindows': 'none',
};

export interface CodeServer {
  url: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolvePort(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitHealthy(url: string, server: ProcessGroup, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void server.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`code-server exited while starting:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await delay(250);
  }
  throw new Error(`code-server not healthy after ${timeoutMs} ms:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
}

export async function startCodeServer(opts: {
  workspace: string;
  extensionsDir: string;
  scratch: string;
  logFile: string;
}): Promise<CodeServer> {
  const port = await freePort();
  const userDataDir = join(opts.scratch, 'user-data');
  const userSettingsPath = join(userDataDir, 'User', 'settings.json');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  writeFileSync(userSettingsPath, JSON.stringify(settings, null, 2));
  const config = join(opts.scratch, 'config.yaml');
  writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const args = [
    '--config', config,
    '--user-data-dir', userDataDir,
    '--extensions-dir', opts.extensionsDir,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    opts.workspace,
  ];
  const server = spawnGroup(codeServerBin, args, { env: isolatedEnv(opts.scratch), logFile: opts.logFile });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(url, server, opts.logFile, 60_000);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { url, stop: () => server.stop() };
}
