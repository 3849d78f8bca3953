import { isMap, isScalar, isSeq, type Node } from 'yaml';

/**
 * The source offset of the deepest YAML node on `path` (the key's offset for mapping entries), so a
 * validation problem at `checks.http[2].url` can be reported at its line even when the value is missing.
 */
export function offsetOfPath(root: unknown, path: readonly PropertyKey[]): number | undefined {
  let node = root as Node | null | undefined;
  let offset = node?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment] as Node | null | undefined;
      offset = node?.range?.[0] ?? offset;
    } else break;
  }
  return offset;
}
