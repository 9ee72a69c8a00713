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
  }

  add(letter: DeadLetter, limit: number): void {
    const { error, trace, ...rest } = letter;
    this.insertStmt.run({ ...rest, error_json: JSON.stringify(error), trace: trace ?? null });
    this.trimStmt.run(Math.max(0, limit));
  }

  /** Newest first. */
  list(limit: number): DeadLetter[] {
    return this.listStmt.all(Math.max(0, limit)).map(({ error_json, trace, ...rest }) => {
      const letter: DeadLetter = { ...rest, error: JSON.parse(error_json) };
      if (typeof trace === 'string') letter.trace = trace;
      return letter;
    });
  }
}
