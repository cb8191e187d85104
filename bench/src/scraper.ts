/** What Prometheus sends: OpenMetrics first (the format that carries exemplars), the text format otherwise. */
const ACCEPT = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';

export interface Scraper {
  /** Scrapes answered with a 2xx status so far. */
  readonly scrapes: number;
  /** No new scrape starts; resolves once the one in flight, if any, is done. */
  stop(): Promise<void>;
}

/**
 * Scrapes `url` every `seconds` from now until stopped, as a Prometheus server watching the broker would,
 * so that a broker measured with metrics on also pays for rendering them. A failed scrape is reported and
 * the next one goes ahead at its time, as Prometheus does.
 */
export function startScraper(url: string, seconds: number, onError: (message: string) => void): Scraper {
  let scrapes = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const scrape = async (): Promise<void> => {
    try {
      const res = await fetch(url, { headers: { accept: ACCEPT } });
      await res.arrayBuffer();
      if (res.ok) scrapes++;
      else onError(`scrape of ${url}: HTTP ${res.status}`);
    } catch (err) {
      onError(`scrape of ${url}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const timer = setInterval(() => {
    inFlight = inFlight.then(scrape);
  }, seconds * 1000);
  return {
    get scrapes() {
      return scrapes;
    },
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
