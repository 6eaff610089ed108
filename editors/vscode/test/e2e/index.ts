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
  // The initiatives suite goes last: its runs would fill the Runs view the other suites check.
  const last = (f: string) => (f === 'initiatives.test.js' ? 1 : 0);
  const files = readdirSync(__dirname).filter((f) => f.endsWith('.test.js'));
  for (const file of files.sort((a, b) => last(a) - last(b) || a.localeCompare(b))) {
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
