import { ConfigError } from './errors.js';

export const MAX_TAGS = 16;
export const MAX_TAG_LENGTH = 128;

/** Distinct tags, in the order given; each a string of 1 to 128 characters without control characters. */
export function checkTags(tags: readonly string[]): string[] {
  if (!Array.isArray(tags)) throw new ConfigError('tags must be an array of strings');
  const distinct = [...new Set(tags)];
  if (distinct.length > MAX_TAGS) throw new ConfigError(`a task takes at most ${MAX_TAGS} tags, got ${distinct.length}`);
  for (const tag of distinct) checkTag(tag, 'tags');
  return distinct;
}

/** A tag as tags take it, else a ConfigError naming `what`. */
export function checkTag(tag: unknown, what = 'tag'): string {
  // eslint-disable-next-line no-control-regex
  if (typeof tag !== 'string' || tag.length === 0 || tag.length > MAX_TAG_LENGTH || /[\u0000-\u001f\u007f]/.test(tag)) {
    throw new ConfigError(`${what}: a tag is a string of 1 to ${MAX_TAG_LENGTH} characters without control characters`);
  }
  return tag;
}
