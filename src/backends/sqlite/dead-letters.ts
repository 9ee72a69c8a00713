import type { DeadLetter } from '../../core/types.js';
import type { Db } from './database.js';

interface DeadLetterRow {
  id: string;
  name: string;
  queue: string;
  payload: string;
  error_json: string;
  at: number;
  trace: string | null;
}

/** The dead-letter store: newest kept, at most `limit` rows. */
export class DeadLetterQueries {
  private readonly insertStmt;
  private readonly trimStmt;
  private readonly listStmt;
  private readonly removeStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare<[DeadLetterRow]>(
      'INSERT INTO dead_letters (id, name, queue, payload, error_json, at, trace) VALUES (@id, @name, @queue, @payload, @error_json, @at, @trace)',
    );
    this.trimStmt = db.prepare<[number]>(
      'DELETE FROM dead_letters WHERE seq NOT IN (SELECT seq FROM dead_letters ORDER BY seq DESC LIMIT ?)',
    );
    this.listStmt = db.prepare<[number], DeadLetterRow>(
      'SELECT id, name, queue, payload, error_json, at, trace FROM dead_letters ORDER BY seq DESC LIMIT ?',
    );
    this.removeStmt = db.prepare<[string], DeadLetterRow & { seq: number }>(
      'DELETE FROM dead_letters WHERE id = ? RETURNING seq, id, name, queue, payload, error_json, at, trace',
    );
  }

  add(letter: DeadLetter, limit: number): void {
    const { error, trace, ...rest } = letter;
    this.insertStmt.run({ ...rest, error_json: JSON.stringify(error), trace: trace ?? null });
    this.trimStmt.run(Math.max(0, limit));
  }

  /** Newest first. */
  list(limit: number): DeadLetter[] {
    return this.listStmt.all(Math.max(0, limit)).map(toLetter);
  }

  /** Deletes every dead letter of task `id`; they come back newest first. */
  remove(id: string): DeadLetter[] {
    // RETURNING order is unspecified
    const rows = this.removeStmt.all(id).sort((a, b) => b.seq - a.seq);
    return rows.map(({ seq: _seq, ...row }) => toLetter(row));
  }
}

function toLetter({ error_json, trace, ...rest }: DeadLetterRow): DeadLetter {
  const letter: DeadLetter = { ...rest, error: JSON.parse(error_json) as DeadLetter['error'] };
  if (typeof trace === 'string') letter.trace = trace;
  return letter;
}
