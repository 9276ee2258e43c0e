// Command ids: a contract with package.json (contributes.commands) and the end-to-end tests.
export const COMMANDS = {
  scoreDataset: 'oodLens.scoreDataset',
  scoreWithModel: 'oodLens.scoreWithModel',
  compareModels: 'oodLens.compareModels',
  calibrate: 'oodLens.calibrate',
  runConfig: 'oodLens.runConfig',
  openLastReport: 'oodLens.openLastReport',
  exportReport: 'oodLens.exportReport',
  openDemo: 'oodLens.openDemo',
} as const;
