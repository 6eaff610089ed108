// ESLint flat config: typescript-eslint's recommended rules on the extension, its tests and scripts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'src/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly', URLSearchParams: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    // Model text in a notification or an input-box prompt becomes a link that runs any command:
    // the extension shows them through src/messages.ts, which takes the links out.
    files: ['src/**/*.ts'],
    ignores: ['src/messages.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.property.name='window'][property.name=/^(showInformationMessage|showWarningMessage|showErrorMessage|showInputBox)$/]",
          message: 'use src/messages.ts: VS Code makes [label](command:...) in these messages a link that runs the command',
        },
      ],
    },
  },
);
