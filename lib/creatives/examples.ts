/**
 * Worked examples for the creatives prompt. They show what the rules alone leave open (how short 90
 * characters is, an urgent tone in plain words, an image prompt with no text, logos or faces, a call to
 * action that fits 20 characters), and they lift the prompt's unchanging prefix past OpenAI's 1,024-token
 * caching minimum, so every later request of the same variant pays the cached rate for it
 * (docs/prompt-caching.md). Each output passes CreativeOutput and the moderation chain
 * (test/functions/prompt-examples.test.ts).
 */
import type { CreativeOutput, CreativeRequest } from './schema.ts';

export interface CreativeExample {
  request: CreativeRequest;
  output: CreativeOutput;
}

export const CREATIVE_EXAMPLES: readonly CreativeExample[] = [
  {
    request: {
      opportunity: {
        id: 'ex_1',
        product_category: 'Cycling rain jackets',
        description: 'Packable waterproof shell with taped seams and reflective trim for commuters',
      },
      target_audience: 'city commuters who ride in all weather',
      brand_voice: 'practical, friendly, no jargon',
      tone: 'informative',
      needs_visual: true,
    },
    output: {
      copy: 'Stay dry on every ride: a packable shell with taped seams and reflective trim.',
      image_prompt:
        'A bright yellow cycling rain jacket folded beside its small stuff sack on a wet city bench, rain drops beading on the fabric, soft overcast light, shallow depth of field',
      tone: 'informative',
      call_to_action: 'See the jacket',
    },
  },
  {
    request: {
      opportunity: {
        id: 'ex_2',
        product_category: 'Board games',
        description: 'Cooperative family game for two to six players, thirty-minute rounds',
      },
      target_audience: 'parents planning a games night',
      brand_voice: 'warm and a little cheeky',
      tone: 'playful',
      needs_visual: true,
    },
    output: {
      copy: 'Team up, not fall out: a thirty-minute game the whole family wins together.',
      image_prompt:
        'A colourful cooperative board game spread on a wooden kitchen table, dice and cards mid-play, bowls of popcorn, warm evening lamp light, viewed from above, hands only at the edges',
      tone: 'playful',
      call_to_action: 'Plan games night',
    },
  },
  {
    request: {
      opportunity: {
        id: 'ex_3',
        product_category: 'Leather watches',
        description: 'Automatic movement, sapphire glass, hand-stitched Italian leather strap',
      },
      target_audience: 'professionals buying a lasting gift',
      brand_voice: 'understated and precise',
      tone: 'premium',
      needs_visual: true,
    },
    output: {
      copy: 'Automatic movement, sapphire glass, hand-stitched leather. Made to be handed down.',
      image_prompt:
        'A slim automatic watch with a brown hand-stitched leather strap resting on dark slate, a single beam of side light catching the sapphire glass, minimal composition, macro detail',
      tone: 'premium',
      call_to_action: 'Discover the watch',
    },
  },
  {
    request: {
      opportunity: {
        id: 'ex_4',
        product_category: 'Garden seeds',
        description: 'Tomato and basil seed kit, sow indoors in early spring',
      },
      target_audience: 'first-time balcony gardeners',
      brand_voice: 'encouraging and simple',
      tone: 'urgent',
      needs_visual: true,
    },
    output: {
      copy: 'Spring sowing starts this month: grow tomatoes and basil on your balcony this season.',
      image_prompt:
        'Seed trays with young tomato and basil seedlings on a sunny balcony railing, a small watering can beside them, fresh morning light, terracotta pots, green and red tones',
      tone: 'urgent',
      call_to_action: 'Start sowing today',
    },
  },
  {
    request: {
      opportunity: {
        id: 'ex_5',
        product_category: 'Running shoes',
        description: 'Lightweight trail shoe with a grippy outsole and rock plate',
      },
      target_audience: 'weekend trail runners',
      brand_voice: 'energetic and direct',
      needs_visual: false,
    },
    output: {
      copy: 'Grip on loose rock, light on the climbs: trail shoes built for your weekend loop.',
      image_prompt:
        'A pair of lightweight trail running shoes on a rocky mountain path, mud on the outsole lugs, early morning sun over distant ridges, low camera angle',
      tone: 'informative',
      call_to_action: 'Find your pair',
    },
  },
  {
    request: {
      opportunity: {
        id: 'ex_6',
        product_category: 'Coffee grinders',
        description: 'Burr grinder with forty grind settings, quiet motor',
      },
      target_audience: 'home baristas upgrading from pre-ground coffee',
      brand_voice: 'relaxed, knowledgeable',
      tone: 'playful',
      needs_visual: true,
    },
    output: {
      copy: 'Forty settings, one quiet motor, and mornings that finally smell like a café.',
      image_prompt:
        'A matte black burr coffee grinder on a marble counter next to a glass jar of coffee beans and a pour-over kettle, steam rising, soft window light, cosy kitchen',
      tone: 'playful',
      call_to_action: 'Grind it fresh',
    },
  },
  {
    request: {
      opportunity: {
        id: 'ex_7',
        product_category: 'Winter duvets',
        description: 'Responsibly sourced down duvet, all-season with two clip-together layers',
      },
      target_audience: 'couples who sleep at different temperatures',
      brand_voice: 'calm and reassuring',
      tone: 'premium',
      needs_visual: true,
    },
    output: {
      copy: 'Two layers that clip together, so each of you sleeps at the warmth you like.',
      image_prompt:
        'A neatly made bed with a thick white down duvet folded back to show two layers, linen pillows, pale morning light through sheer curtains, calm neutral bedroom',
      tone: 'premium',
      call_to_action: 'Sleep warmer',
    },
  },
];
