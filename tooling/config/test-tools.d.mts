export declare function hasTool(cmd: string): boolean;
export declare function skipsForbidden(): boolean;
export declare function requireTools(...tools: string[]): boolean;
