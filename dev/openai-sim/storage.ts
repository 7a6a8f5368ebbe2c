import type { SimBatch } from './batch-state.ts';

/** A stored file, as `POST /v1/files` received it or as a finished batch wrote it. */
export interface SimFile {
  id: string;
  filename: string;
  /** 'batch' for uploads; 'batch_output' for a batch's output and error files. */
  purpose: string;
  data: Buffer;
  /** Unix seconds. */
  createdAt: number;
}

/**
 * Files and batches, in memory for the simulator's lifetime. They are shared by every API key, as an
 * OpenAI project's are, so a poller with another key still finds a batch; `/_sim/reset` leaves them alone.
 */
export interface SimStorage {
  files: Map<string, SimFile>;
  batches: Map<string, SimBatch>;
}

export function createSimStorage(): SimStorage {
  return { files: new Map(), batches: new Map() };
}

/** The FileObject OpenAI returns for `file`. */
export function fileObject(file: SimFile) {
  return {
    id: file.id,
    object: 'file',
    bytes: file.data.length,
    created_at: file.createdAt,
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed',
    expires_at: null,
    status_details: null,
  };
}
