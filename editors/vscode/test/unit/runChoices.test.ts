// Layer 1: what New Run starts from. The choices of the last run are remembered, but a setting
// changed since wins: after the README's scripted demo, `devfactory.defaultProvider: openai`
// must make openai runs (the memento used to keep the demo's provider and script for good).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentRole, ExecutionMode } from '../../src/generated/protocol';
import { type Defaults, remember, type RunChoices, startingChoices } from '../../src/model/runChoices';

const settings = (provider: string, mode = 'review'): Defaults => ({ agent: 'backend' as AgentRole, provider, mode: mode as ExecutionMode });
const demo: RunChoices = { ...settings('scripted'), models: { scripted: 'demo.json' }, plan: false };

test('with nothing remembered, a run starts from the settings', () => {
  assert.deepEqual(startingChoices(undefined, settings('openai')), { ...settings('openai'), models: {}, plan: false });
});

test('the last run made is remembered while the settings stay as they were', () => {
  assert.deepEqual(startingChoices(remember(demo, settings('openai')), settings('openai')), demo);
});

test('a setting changed since the last run wins over what was remembered', () => {
  const remembered = remember(demo, settings('openai'));
  const now = startingChoices(remembered, settings('anthropic', 'yolo'));
  assert.equal(now.provider, 'anthropic');
  assert.equal(now.mode, 'yolo');
  assert.deepEqual(now.models, { scripted: 'demo.json' }, 'the script stays for when scripted is picked again');
});

test('a memento from before the defaults were kept keeps its choices', () => {
  assert.equal(startingChoices({ provider: 'scripted' }, settings('openai')).provider, 'scripted');
});
