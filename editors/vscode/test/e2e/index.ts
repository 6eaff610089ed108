/**
 * Layer-2 entry point, loaded by VS Code as `extensionTestsPath`: runs the mocha suites next to
 * it inside the real extension host (the same contract as @vscode/test-electron suites) and
 * prints `N passed, N failed` for CI. Rejecting makes VS Code exit with code 1.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000, reporter: 'spec' });
  const only = process.env.DEVFACTORY_E2E_GREP;
  if (only) mocha.grep(only);
  for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) {
    mocha.addFile(join(__dirname, file));
  }
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const { passes = 0, failures: failed = 0 } = runner.stats ?? {};
      console.log(`exthost: ${passes} passed, ${failed} failed`);
      if (failures > 0) reject(new Error(`${failures} extension-host test(s) failed`));
      else resolve();
    });
  });
}
