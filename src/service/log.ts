// What the service says about itself: start-up decisions (info), faults it recovered from (warn),
// faults it could not (error). The CLI prints every line; the library default prints only trouble.
export type LogLevel = 'info' | 'warn' | 'error';
export type ServiceLog = (level: LogLevel, message: string) => void;

export const defaultLog: ServiceLog = (level, message) => {
  if (level !== 'info') process.stderr.write(`flashsale service: ${message}\n`);
};
