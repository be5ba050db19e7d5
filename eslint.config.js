// `npm run lint`: ESLint with typescript-eslint, type-aware where it pays (promises that nobody awaits
// or that are handed to a callback expecting void are how a run loses an error or a result). Why ESLint
// rather than Biome: see docs/architecture.md. The local rules below ask for a comment saying why at
// every type assertion and non-null assertion in src/, and for a reason on every eslint-disable.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** A `x as T` (but not `as const`) or `x!` in src/ needs a comment on its line or the line above. */
const explainedAssertion = {
  meta: {
    type: 'suggestion',
    docs: { description: 'type and non-null assertions say why in a comment' },
    messages: { why: '{{what}} without a comment saying why (on this line or the line above)' },
    schema: [],
  },
  create(context) {
    const source = context.sourceCode;
    const commented = new Set();
    for (const c of source.getAllComments()) {
      for (let line = c.loc.start.line; line <= c.loc.end.line + 1; line++) commented.add(line);
    }
    const check = (node, what) => {
      // On the assertion's line (a trailing comment), just above it, or just above its statement.
      let statement = node;
      while (statement.parent && !/(Statement|Declaration|PropertyDefinition)$/.test(statement.type)) statement = statement.parent;
      if (commented.has(node.loc.start.line) || commented.has(node.loc.end.line) || commented.has(statement.loc.start.line)) return;
      context.report({ node, messageId: 'why', data: { what } });
    };
    return {
      TSAsExpression(node) {
        if (node.typeAnnotation.type === 'TSTypeReference' && node.typeAnnotation.typeName.name === 'const') return;
        check(node, 'type assertion');
      },
      TSNonNullExpression(node) {
        check(node, 'non-null assertion');
      },
    };
  },
};

/** eslint-disable comments give their reason after ` -- `. */
const disableWithReason = {
  meta: {
    type: 'suggestion',
    docs: { description: 'eslint-disable comments give a reason' },
    messages: { reason: 'say why after " -- " in this eslint-disable comment' },
    schema: [],
  },
  create(context) {
    return {
      Program() {
        for (const c of context.sourceCode.getAllComments()) {
          if (/^\s*eslint-disable/.test(c.value) && !/\s--\s+\S/.test(c.value)) context.report({ loc: c.loc, messageId: 'reason' });
        }
      },
    };
  },
};

const local = { rules: { 'explained-assertion': explainedAssertion, 'disable-with-reason': disableWithReason } };

export default tseslint.config(
  { ignores: ['node_modules/', 'reports/', 'scenarios/k6/', 'src/report/html/charts.client.js'] },
  {
    files: ['**/*.ts', '**/*.js'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js', 'bin/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { flashsale: local },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/consistent-type-assertions': ['error', { assertionStyle: 'as', objectLiteralTypeAssertions: 'allow-as-parameter' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'flashsale/disable-with-reason': 'error',
      'no-var': 'error',
      'prefer-const': 'error',
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // Tests read arbitrary JSON answers and line up columns in expected text: `any` and runs of spaces
    // in a regular expression are what they mean there.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      'no-regex-spaces': 'off',
      '@typescript-eslint/consistent-type-assertions': ['error', { assertionStyle: 'as', objectLiteralTypeAssertions: 'allow' }],
    },
  },
  {
    // The product's code: every assertion says why. Tests and benchmarks build fakes and read results
    // they just wrote, where an assertion is the point; they are held to the rest.
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      'flashsale/explained-assertion': 'error',
    },
  },
);
