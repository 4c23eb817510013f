/**
 * Voice notes to text with an OpenAI-compatible `/audio/transcriptions` endpoint (OpenAI, Groq, a local whisper
 * server). Only the audio and the model name are sent; the answer's text is what the model reads.
 */
import { z } from 'zod';

export type Transcriber = (audio: Buffer, mimeType: string, signal: AbortSignal) => Promise<string>;

const answerSchema = z.object({ text: z.string() });

const EXTENSIONS: Record<string, string> = {
  'audio/ogg': 'ogg',
  'audio/opus': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/x-m4a': 'm4a',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/webm': 'webm',
  'video/webm': 'webm',
  'video/mp4': 'mp4',
  'audio/flac': 'flac',
};

export function openAITranscriber(o: { baseUrl: string; apiKey?: string; model: string }): Transcriber {
  const url = `${o.baseUrl.replace(/\/+$/, '')}/audio/transcriptions`;
  return async (audio, mimeType, signal) => {
    const form = new FormData();
    // The endpoint picks the decoder by the file name's extension.
    form.append(
      'file',
      new Blob([new Uint8Array(audio)], { type: mimeType }),
      `voice.${EXTENSIONS[mimeType] ?? 'ogg'}`,
    );
    form.append('model', o.model);
    form.append('response_format', 'json');
    const res = await fetch(url, {
      method: 'POST',
      body: form,
      signal,
      headers: o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {},
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`transcription failed with HTTP ${res.status}`);
    }
    return answerSchema.parse(await res.json()).text.trim();
  };
}
