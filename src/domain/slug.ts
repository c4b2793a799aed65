/** URL slug from a name: ASCII lowercase, digits and single hyphens, at most 120 chars. */
export function slugify(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 120)
    .replace(/-+$/g, "");
  return slug || "event";
}

/** Candidates tried in order when a generated slug is taken: base, base-2, base-3, ... */
export function slugCandidates(base: string, count = 20): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? base : `${base.slice(0, 120 - String(i + 1).length - 1)}-${i + 1}`));
}
