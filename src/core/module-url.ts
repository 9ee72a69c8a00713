/**
 * The URL of module `name` beside the module at `metaUrl`, with the same
 * extension: `.ts` when errand runs from source (tests, tsx), `.js` from dist.
 */
export function siblingModule(metaUrl: string, name: string): string {
  return new URL(`./${name}${metaUrl.endsWith('.ts') ? '.ts' : '.js'}`, metaUrl).href;
}
