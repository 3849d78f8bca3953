import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { isReefError } from '../../src/errors.js';

function problems(text: string): readonly string[] {
  try {
    parseConfig(text);
  } catch (error) {
    if (isReefError(error)) return error.details;
    throw error;
  }
  throw new Error('expected the config to be refused');
}

describe('memory, history and brainstorm settings in reef.yaml', () => {
  it('defaults: memory on with the auto scanner, 35 days of history, the documented thresholds', () => {
    const config = parseConfig('');
    expect(config.memoryDir).toBeUndefined();
    expect(config.memory).toEqual({ enabled: true, branch: 'main', scanner: 'auto' });
    expect(config.history).toEqual({ retention: '35d' });
    expect(config.brainstorm).toEqual({
      changePercent: 10,
      certificateDays: 30,
      diskHorizonDays: 30,
      promoteAfter: 5,
      maxRows: 20,
    });
  });

  it('reports every bad setting with its line and what is allowed', () => {
    expect(
      problems(`memoryDir: ""
memory: { scanner: trufflehog3, branch: "my branch", remote: "git@host:repo.git extra" }
history: { retention: 3d }
brainstorm: { changePercent: -5, promoteAfter: 1, certificates: 30 }
`),
    ).toEqual([
      expect.stringMatching(/^line 1: memoryDir: /),
      expect.stringMatching(/^line 2: memory\.remote: must be a git remote URL or path, without spaces/),
      expect.stringMatching(/^line 2: memory\.branch: must be a plain git branch name such as main/),
      expect.stringMatching(/^line 2: memory\.scanner: .*auto.*trufflehog.*gitleaks.*embedded/),
      'line 3: history.retention: must be at least 8d (the Brainstorm compares 7 days of history)',
      expect.stringMatching(/^line 4: brainstorm\.changePercent: /),
      expect.stringMatching(/^line 4: brainstorm\.promoteAfter: /),
      expect.stringMatching(/^line 4: brainstorm\.certificates: unknown key \(known here: changePercent, /),
    ]);
  });
});
