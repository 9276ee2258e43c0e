// Command ids: a contract with package.json (contributes.commands) and the end-to-end tests.
export const COMMANDS = {
  scoreDataset: 'oodLens.scoreDataset',
  scoreWithModel: 'oodLens.scoreWithModel',
  compareModels: 'oodLens.compareModels',
  calibrate: 'oodLens.calibrate',
  finetune: 'oodLens.finetune',
  runConfig: 'oodLens.runConfig',
  openLastReport: 'oodLens.openLastReport',
  exportReport: 'oodLens.exportReport',
  compareReports: 'oodLens.compareReports',
  openDemo: 'oodLens.openDemo',
} as const;
