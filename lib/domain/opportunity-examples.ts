/**
 * Worked examples for the opportunities prompt. They show what the instructions alone leave open (a
 * vague intent still yields concrete products, relevance that falls with distance from the intent, an
 * intent with a concern flagged rather than refused, an empty list of flags otherwise), and they lift
 * the prompt's unchanging prefix past OpenAI's 1,024-token caching minimum, so every later miss pays
 * the cached rate for it (docs/prompt-caching.md). Each output passes OpportunitiesOutput and the
 * moderation chain (test/functions/prompt-examples.test.ts).
 */
import type { OpportunitiesOutput, OpportunitiesRequest } from './opportunities.ts';

export interface OpportunitiesExample {
  request: OpportunitiesRequest;
  output: OpportunitiesOutput;
}

export const OPPORTUNITIES_EXAMPLES: readonly OpportunitiesExample[] = [
  {
    request: {
      intent: 'my daughter starts cycling to school next month and it rains a lot here',
      context: { locale: 'en-GB', price_band: 'mid' },
    },
    output: {
      opportunities: [
        {
          title: 'Kids waterproof cycling jacket',
          product_category: 'Children cycling clothing',
          rationale: 'Daily rides in rain call for a breathable waterproof layer sized for a child.',
          relevance: 0.95,
          needs_visual: true,
        },
        {
          title: 'Rechargeable front and rear bike lights',
          product_category: 'Bike lights',
          rationale: 'Rainy mornings are dark, and lights make a young rider visible to traffic.',
          relevance: 0.85,
          needs_visual: true,
        },
        {
          title: 'Clip-on mudguard set',
          product_category: 'Bike accessories',
          rationale: 'Mudguards keep spray off school clothes on wet roads.',
          relevance: 0.7,
          needs_visual: false,
        },
        {
          title: 'Waterproof school pannier',
          product_category: 'Bike bags',
          rationale: 'Keeps books dry and takes the load off her back.',
          relevance: 0.6,
          needs_visual: true,
        },
      ],
      reasoning: 'Rain and a daily school commute: weather protection, visibility, then carrying.',
      confidence: 0.85,
      safety_flags: ['minor'],
    },
  },
  {
    request: { intent: 'something to make my morning coffee better' },
    output: {
      opportunities: [
        {
          title: 'Burr coffee grinder',
          product_category: 'Coffee grinders',
          rationale: 'Grinding beans fresh is the largest single step up from pre-ground coffee.',
          relevance: 0.9,
          needs_visual: true,
        },
        {
          title: 'Single-origin whole bean coffee',
          product_category: 'Coffee beans',
          rationale: 'Fresh, well-roasted beans change the taste of every cup.',
          relevance: 0.85,
          needs_visual: true,
        },
        {
          title: 'Gooseneck pour-over kettle',
          product_category: 'Kettles',
          rationale: 'A steady pour gives a more even brew with a dripper or cafetière.',
          relevance: 0.65,
          needs_visual: true,
        },
      ],
      reasoning: 'A broad wish about taste: start with grinding and beans, then brewing control.',
      confidence: 0.7,
      safety_flags: [],
    },
  },
  {
    request: {
      intent: 'supplements to lose weight fast before my holiday',
      context: { region: 'EU' },
    },
    output: {
      opportunities: [
        {
          title: 'Insulated water bottle',
          product_category: 'Drinkware',
          rationale: 'Staying hydrated supports an active routine before a trip.',
          relevance: 0.5,
          needs_visual: true,
        },
        {
          title: 'Resistance band set',
          product_category: 'Home fitness equipment',
          rationale: 'A compact way to add regular exercise at home in the weeks before travel.',
          relevance: 0.55,
          needs_visual: true,
        },
      ],
      reasoning: 'Rapid weight-loss supplements raise health claims; suggest general fitness items instead.',
      confidence: 0.5,
      safety_flags: ['health claims', 'weight loss'],
    },
  },
  {
    request: {
      intent: 'birthday present for a friend who just got into bouldering',
      context: { price_band: 'budget', hints: ['under 40 euros'] },
    },
    output: {
      opportunities: [
        {
          title: 'Chalk bag with belt',
          product_category: 'Climbing accessories',
          rationale: 'Every new boulderer needs chalk, and a bag is an easy, affordable gift.',
          relevance: 0.9,
          needs_visual: true,
        },
        {
          title: 'Climbing brush set',
          product_category: 'Climbing accessories',
          rationale: 'Cleaning holds is a habit beginners pick up quickly; a small, useful gift.',
          relevance: 0.7,
          needs_visual: false,
        },
        {
          title: 'Finger tape and skin balm kit',
          product_category: 'Climbing care',
          rationale: 'New climbers go through skin fast; tape and balm help them climb more often.',
          relevance: 0.65,
          needs_visual: false,
        },
      ],
      reasoning: 'A budget gift for a beginner: small accessories every boulderer uses.',
      confidence: 0.8,
      safety_flags: [],
    },
  },
];
