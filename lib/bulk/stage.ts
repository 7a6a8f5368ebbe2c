/**
 * Stages a finished batch's output and error files for collection: each file is read line by line as it
 * downloads (never held whole), and the outcome of every line naming one of the job's items is written
 * to the job's staged lines (staged-lines.ts). Done once per job, by the first run that collects it;
 * safe to repeat after a crash, since a line is written under its index.
 */
import type { BatchEnd } from './job';
import { readLine } from './lines';
import type { StagedLines } from './staged-lines';
import { linesOf } from './stream-lines';

export interface StageDeps {
  lines: Pick<StagedLines, 'writer'>;
  /** A file's content as it downloads. */
  download(fileId: string): Promise<ReadableStream<Uint8Array>>;
}

/** Stages the lines of job `id`'s files (an item is `0 … total - 1`); returns how many were staged. */
export async function stageLines(
  deps: StageDeps,
  id: string,
  total: number,
  end: Pick<BatchEnd, 'output_file_id' | 'error_file_id'>,
): Promise<number> {
  const writer = deps.lines.writer(id);
  let staged = 0;
  for (const fileId of [end.output_file_id, end.error_file_id]) {
    if (!fileId) continue;
    for await (const raw of linesOf(await deps.download(fileId))) {
      const line = readLine(raw);
      // Only our own custom_ids (an item's index) are kept: anything else would be a stray field.
      if (!line || !isIndex(line[0], total)) continue;
      await writer.add(line[0], line[1]);
      staged += 1;
    }
  }
  await writer.flush();
  return staged;
}

function isIndex(customId: string, total: number): boolean {
  return /^(0|[1-9]\d*)$/.test(customId) && Number(customId) < total;
}
